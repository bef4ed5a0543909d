"""The training engine, the bottom floor that every network's training stands on: checkpoints,
the device and precision choice, and the one resumable training loop."""
