"""DRF's own tests for views and their policies, adapted to async views and run on daf_drf."""
