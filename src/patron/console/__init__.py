"""The admin console: server-rendered pages for loyalty managers, support agents, marketers,
viewers and owners (SPEC §9, docs/console.md).

An entrypoint beside ``patron.api``: its routes authenticate a staff user's session, check the
role's permission (``patron.domain.staff``) and call the same services as the API, never storage
directly. Pages are Jinja2 templates with autoescape; htmx 2 and Chart.js are vendored under
``static/vendor``; there is no inline script, so a strict Content-Security-Policy holds. Every
form posts and redirects, and carries a one-time token that is both its CSRF token and its
idempotency key (``forms``), so a double submit applies once.
"""
