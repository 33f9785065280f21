"""The analyst's guide inside Neo4j Browser: written from the Cypher library and the store
(:mod:`critmin.guide.build`), served on 127.0.0.1 (:mod:`critmin.guide.serve`), run beside the
managed server (:mod:`critmin.guide.process`), which also plans the library's queries ahead
(:mod:`critmin.guide.warm`)."""
