"""A startproject-style project whose `REST_FRAMEWORK` names daf_drf classes (start-up matrix)."""
