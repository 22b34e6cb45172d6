"""A small project for the task tests: the same settings serve pytest, uvicorn and the workers."""
