"""The project installs as a package: a wheel built from pyproject.toml holds the code, its
data files and the command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from app.config import PROJECT_ROOT


def test_a_wheel_holds_the_app_its_data_and_the_command(tmp_path):
    source = tmp_path / "source"  # a copy of what the package is made of: the build writes beside it
    shutil.copytree(PROJECT_ROOT / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("hospital_summary_qa-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"app/__init__.py", "app/stores.py", "app/web.py", "app/data/confidence.json", "app/data/hospital_terms.txt",
            "app/data/hospital_en.tsv", "app/data/regional_zh.tsv", "app/index/build.py", "app/formats/pdf.py",
            "app/formats/child.py"} <= names
    assert not any(name.startswith(("tests/", "bench/", "seeds/", "index/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "hospital-qa = app.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
