"""critmin: supply-risk analytics for critical minerals on a Neo4j trade graph."""

__version__ = "0.1.0"
