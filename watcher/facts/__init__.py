"""Reading facts: topics, sentence reading, comparison with what is known."""
