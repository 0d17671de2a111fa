"""Event and API inputs checked before Gradio sees them: every value of the right type, in range,
among this session's choices, and files only from the upload folder. Gradio checks most of this
too, but with a traceback in the server log for each bad value a client sends (43 in one
attack); here a bad value is a short Chinese refusal (422)."""

from __future__ import annotations

import json
from pathlib import Path

#: Components whose preprocessing is a pure check of a plain value: the edge runs it itself.
CHECKED_COMPONENTS = {"Textbox", "Slider", "Number", "Checkbox", "Radio", "Dropdown", "Chatbot"}


def checked_inputs(app, fn, payload: dict, body: bytes,
                    uploads: Path | None = None) -> tuple[bytes, tuple[int, str] | None]:
    """Each input value checked as Gradio will check it, but here, where a bad one is a short
    Chinese refusal (422) instead of a traceback in the server log: the right number of values
    (trailing ones with a default may be left out, as the API description says), each of the
    component's type, range and choices — this session's choices, where the app changed them.
    A file value must name a file uploaded into `uploads` (the app's temporary folder), not any
    path on the server. Returns the body to pass on (defaults filled in) or why it is refused."""
    data = list(payload["data"])
    inputs = list(fn.inputs)
    state = None
    session = payload.get("session_hash")
    holder = getattr(app, "state_holder", None)
    if isinstance(session, str) and holder is not None and session in holder:
        state = holder[session]
    if len(data) < len(inputs):
        missing = inputs[len(data):]
        if any(not block.stateful and getattr(block, "value", None) is None for block in missing):
            return body, (422, f"输入不完整：需要 {len(inputs)} 项，收到 {len(data)} 项。")
        data += [None if block.stateful else block.value for block in missing]
        payload = {**payload, "data": data}
        body = json.dumps(payload, ensure_ascii=False).encode()
    for position, (block, value) in enumerate(zip(inputs, data), 1):
        kind = type(block).__name__
        if kind == "File" and uploads is not None and not _uploaded(value, uploads):
            return body, (422, f"输入无效：第 {position} 项（{getattr(block, 'label', None) or kind}）不是上传的文件。")
        if block.stateful or kind not in CHECKED_COMPONENTS:
            continue
        if state is not None and block._id in state:
            block = state[block._id]
        try:
            model = getattr(block, "data_model", None)
            checked = model.model_validate(value) if model is not None and value is not None else value
            if kind in ("Slider", "Number") and (isinstance(value, bool) or not isinstance(value, (int, float))
                                                 or value != value):
                raise ValueError("not a number")
            if kind == "Checkbox" and not isinstance(value, bool):
                raise ValueError("not a boolean")
            if kind == "Textbox" and value is not None and not isinstance(value, str):
                raise ValueError("not text")
            block.preprocess(checked)
        except Exception:  # noqa: BLE001 - whatever Gradio would raise on this value: the client's mistake
            label = getattr(block, "label", None) or kind
            return body, (422, f"输入无效：第 {position} 项（{label}）的值不符合要求。")
    return body, None


def _uploaded(value, uploads: Path) -> bool:
    """Whether a file input names only files inside the upload folder (or nothing)."""
    items = value if isinstance(value, list) else [value]
    root = uploads.resolve()
    for item in items:
        if item is None:
            continue
        path = item.get("path") if isinstance(item, dict) else None
        if not isinstance(path, str) or not Path(path).resolve().is_relative_to(root):
            return False
    return True
