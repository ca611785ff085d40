"""riskclass: suggests the risk tier of an AI product under the Chengdu draft measures, and shows why.

Nothing heavy is imported here: `riskclass --help` must stay instant.
"""

__version__ = "0.1.0"
