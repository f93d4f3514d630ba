"""One module per page, each with its layout and its own callbacks (ids prefixed by page)."""
