"""The demo shop (`manage.py load_demo`) and the benchmarks (`manage.py bench`).

This app sits on top of every other one and nothing imports it, so `core` stays at the
bottom. Its accounts have published passwords: `load_demo` runs only in demo mode.
"""
