"""账号管理 — the administrator's page: open accounts, disable them, reset passwords.

Every post carries the session's form token; disabling a person or resetting their password ends
their sessions at once (``api/accounts.py``). The same operations exist as ``closeloop users``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from api.accounts import AccountError, create_user, list_users, reset_password, set_active
from api.deps import StateDep
from api.web.session import ViewerDep, form_ok, to_login
from api.web.views import denied, render
from domain.labels import ROLE_LABELS
from domain.vocabulary import Role

router = APIRouter(prefix="/admin", include_in_schema=False)
STAFF_ROLES = (Role.SUPERVISOR, Role.VERIFIER, Role.UNIT_STAFF, Role.ADMIN)


def _back(**message: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/admin/users?{urlencode(message)}", status_code=303)


@router.get("/users")
def users_page(request: Request, p: ViewerDep, s: StateDep):
    if p is None:
        return to_login(request)
    if p.role != Role.ADMIN:
        return denied(request, p, "账号管理仅供系统管理员使用。")
    return render(
        request,
        "admin_users.html",
        p,
        s.district,
        title="账号管理",
        users=list_users(s.db),
        roles=[(r.value, ROLE_LABELS[r]) for r in STAFF_ROLES],
        units=s.district.units,
    )


async def _admin_form(request: Request, p) -> dict | RedirectResponse:
    """The posted form of an administrator, or where to send anyone else."""
    if p is None:
        return to_login(request)
    form = await request.form()
    if p.role != Role.ADMIN:
        return _back(error="账号管理仅供系统管理员使用")
    if not form_ok(request, p, form.get("csrf")):
        return _back(error="请求来源无效或页面已过期，请刷新后重试")
    return {k: str(v)[:256] for k, v in form.items()}


async def _change(s, done: str, work, *args) -> RedirectResponse:
    """Run one account change in the database pool; back to the list with ``done`` or the reason."""
    try:
        await s.db.run(work, *args)
    except AccountError as err:
        return _back(error=str(err))
    return _back(ok=done)


@router.post("/users")
async def add_user(request: Request, p: ViewerDep, s: StateDep):
    form = await _admin_form(request, p)
    if isinstance(form, RedirectResponse):
        return form
    try:
        role = Role(form.get("role", ""))
        login, name = form.get("login", "").strip()[:64], form.get("name", "").strip()[:64]
        if not login or not name:
            raise AccountError("请填写用户名和姓名")
        await s.db.run(
            create_user, s.db, s.district, login, name, role, form.get("unit") or None, form.get("password", "")
        )
    except ValueError as err:  # AccountError, or a role that is not one
        return _back(error=str(err) if isinstance(err, AccountError) else "角色无效")
    return _back(ok=f"已开设账号 {login}")


@router.post("/users/{login}/active")
async def toggle(login: str, request: Request, p: ViewerDep, s: StateDep):
    form = await _admin_form(request, p)
    if isinstance(form, RedirectResponse):
        return form
    active = form.get("active") == "true"
    if login == p.user and not active:
        return _back(error="不能停用自己的账号")
    return await _change(s, f"已{'启用' if active else '停用'} {login}", set_active, s.db, login, active)


@router.post("/users/{login}/password")
async def new_password(login: str, request: Request, p: ViewerDep, s: StateDep):
    form = await _admin_form(request, p)
    if isinstance(form, RedirectResponse):
        return form
    done = f"已重置 {login} 的密码，其登录会话已全部失效"
    return await _change(s, done, reset_password, s.db, login, form.get("password", ""))
