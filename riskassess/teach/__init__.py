"""Trainers and caseworkers at a prompt: the quiz on teaching scenarios, and the
interview that writes a case file."""
