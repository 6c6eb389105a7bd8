"""`make demo`: `python -m local.demo` (the pipeline in local/demo/__init__.py)."""

from local.demo import main

if __name__ == "__main__":
    raise SystemExit(main())
