"""The Label Studio round trip: export flagged examples and confused pairs as review tasks,
import the humans' decisions as an append-only log. The SDK and the server load lazily.

- :func:`audit.labelstudio.export.export_to_labelstudio`
- :func:`audit.labelstudio.importing.import_from_labelstudio`
- :func:`audit.labelstudio.server.start_local_server`
"""
