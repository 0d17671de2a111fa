"""Hospital work-summary Q&A (医院工作总结问答).

Importing the package turns off what the libraries it uses would collect or look up: ONNX
Runtime's telemetry (which otherwise writes a device id and an event queue under
~/.cache/Microsoft on Linux, before any API can switch it off), OpenVINO's usage statistics
(`import openvino` writes a client id under ~/intel; with `openvino_telemetry` unimportable it
uses its own no-op stub), Gradio's analytics and the Hugging Face hub. A hospital network must
be able to trust that nothing is collected; these are forced, not defaults a stray environment
could undo.
"""

import os
import sys

sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]  # import fails: OpenVINO uses its stub

for _variable, _value in (("ORT_DISABLE_TELEMETRY", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                          ("HF_HUB_DISABLE_TELEMETRY", "1"), ("HF_HUB_OFFLINE", "1"), ("DO_NOT_TRACK", "1")):
    os.environ[_variable] = _value
