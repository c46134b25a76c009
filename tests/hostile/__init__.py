"""A corpus of hostile inputs made by code: bombs, broken files, odd sheets, odd folders."""
