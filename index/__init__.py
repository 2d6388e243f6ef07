"""Write path: article files -> chunks -> embedded, saved index."""
