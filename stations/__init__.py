"""Classroom stations: the command line, shared configuration loading and errors."""

__version__ = "0.1.0"
