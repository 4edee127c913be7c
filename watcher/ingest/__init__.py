"""Getting articles: HTTP fetching, feed parsing, text extraction."""
