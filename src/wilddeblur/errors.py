"""Errors for bad inputs; each message names the file it is about."""


class VideoError(RuntimeError):
    """A video (or folder of frames) could not be read or written."""
