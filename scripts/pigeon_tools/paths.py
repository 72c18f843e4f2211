"""Where things are in a checkout."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
FUNCTION = ROOT / "function"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
ZIP = DIST / "pigeon.zip"
CACHE = ROOT / ".cache"
ENV_FILE = ROOT / "pigeon.env"
