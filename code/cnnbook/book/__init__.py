"""Book: what the pages need (data and models loaded once, glue, figures, the Colab notebooks)."""
