"""The page where an admin or a unit leader lifts the sign-in lock of their people
(`accounts.login_limits`): the accounts they may unlock, each with a button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.models import User
from civicloop.core.accounts.selectors import users_sign_in_locked_for
from civicloop.core.accounts.services import account_login_unlock
from civicloop.core.errors import refusal_show
from civicloop.web.views import staff_required


@staff_required
@require_http_methods(["GET", "POST"])
def sign_in_locks(request: HttpRequest) -> HttpResponse:
    """GET: the locked accounts the user may unlock. POST `user`: unlock that one."""
    actor: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        locked = get_object_or_404(User, pk=request.POST.get("user") or 0, is_citizen=False)
        try:
            account_login_unlock(user=locked, actor=actor)
        except AccountError as refused:
            refusal_show(request, refused)
            return render(request, "web/sign_in_locks.html", {"locked": []}, status=403)
        messages.success(request, _("已解除 %(name)s 的登录锁定。") % {"name": locked.masked_name})
        return redirect("web:sign_in_locks")
    return render(
        request, "web/sign_in_locks.html", {"locked": users_sign_in_locked_for(actor=actor)}
    )
