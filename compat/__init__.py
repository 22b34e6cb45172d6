"""
Drop-in evidence for daf_drf: DRF is the oracle.

`compat.differential` sends the same request to a DRF view and its daf_drf twin and asserts
identical answers; `compat.project` is a small DRF project and its daf_drf twin.
"""
