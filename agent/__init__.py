"""Capture agent: meeting window -> tiles -> faces -> emotions -> rows."""
