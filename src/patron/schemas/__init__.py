"""What every entrypoint reads its input through: the request models and their validation.

The HTTP API (``patron.api``), the command line (``patron.cli``) and the entrypoints to come take
the same inputs (a purchase, a refund, a new member, an analytics window) and must refuse the same
bad values with the same field paths. The models live here, beside the entrypoints rather than in
one of them, so no entrypoint imports another. Pydantic only: no web framework, no database.
"""
