"""Uploaded files: images, audio and tables read within bounds, with one-sentence errors."""
