"""Where aecli keeps trained models and downloaded datasets."""

import os
from pathlib import Path


def model_home() -> Path:
    """$AECLI_HOME, else the platform's user data dir."""
    env = os.environ.get("AECLI_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("aecli"))


def data_cache() -> Path:
    """$AECLI_DATA, else the platform's user cache dir."""
    env = os.environ.get("AECLI_DATA")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("aecli"))


PRETRAINED = Path(__file__).parent / "pretrained"  # the bundled models, MNIST's test split and its judge
