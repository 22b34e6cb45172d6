"""A tiny Django project served by a real uvicorn process in `tests/test_e2e_uvicorn.py`."""
