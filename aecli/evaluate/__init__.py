"""Honest numbers: likelihood, reconstruction, sample quality and its judge, attribute edits, anomaly,
protocols, embedding."""
