"""Training: settings, session (start / resume), the loop, batches, cores, torchrun, the run folder."""
