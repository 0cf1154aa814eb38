"""The console's front door: the programs the staff user holds, or straight to the only one."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.responses import Response

from patron.console.deps import Staff, page, signed_in
from patron.console.forms import redirect
from patron.console.routing import router as make_router

router = make_router()


@router.get("/")
def home(request: Request, me: Staff = Depends(signed_in)) -> Response:
    if len(me.programs) == 1:
        return redirect(request, f"/console/programs/{me.programs[0][0].slug}/")
    return page(request, "programs.html", {"title": "Programs"}, me=me)


@router.get("/switch")
def switch(request: Request, program: str = "", me: Staff = Depends(signed_in)) -> Response:
    """The program switcher's target (a GET form, so it works without JavaScript)."""
    known = {p.slug for p, _ in me.programs}
    return redirect(request, f"/console/programs/{program}/" if program in known else "/console/")
