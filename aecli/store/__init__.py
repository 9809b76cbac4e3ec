"""Checkpoints, runs and their pointers, and the files commands write."""
