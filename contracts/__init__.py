"""The record contracts shared by every part: dependency-free, imported by all, importing none."""
