"""overconf: how over-confident are image classifiers, and are robust models less so?"""

__version__ = "0.1.0"
