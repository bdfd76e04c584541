"""The Faust side of relstream: the topology (`app.py`) and the state it keeps in Faust tables."""
