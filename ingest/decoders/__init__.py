"""Pure decoders, one module per device family (see ``ingest.registry``)."""
