"""Mentor pipeline: nightly, checked, explainable shortlists of pupils who would benefit from a learning mentor."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mentor-pipeline")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
