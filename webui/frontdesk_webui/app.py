"""The Flask application factory: a sequence of ``configure_*`` steps over one desk."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, abort, request
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Blueprint as SmorestBlueprint
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, PrefixLoader
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.errors import FrontdeskError
from frontdesk_webui import admin, agent, agent_macros, auth, errors, guards, notification_views, portal, views
from frontdesk_webui.api import DeskApi
from frontdesk_webui.api import auth as api_auth
from frontdesk_webui.api import configure as configure_api
from frontdesk_webui.api import register as register_api_blueprint
from frontdesk_webui.api.schemas import IdConverter
from frontdesk_webui.desk_settings import SettingsCache
from frontdesk_webui.slots import render_slot


def create_app(desk: Desk | Config | None = None, *, plugins: list[Any] | None = None) -> Flask:
    """Build the web application for ``desk`` (or a desk made from a configuration or the environment).

    :param plugins: with a configuration, load exactly these plugins (tests); see :class:`Desk`.
    """
    if not isinstance(desk, Desk):
        desk = Desk(desk or Config.from_env(), plugins=plugins)
    if not desk.config.secret_key:
        raise FrontdeskError("no secret key: run `frontdesk init` or set FRONTDESK_SECRET_KEY")
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter
    app.extensions["frontdesk"] = desk
    configure_flask(app, desk)
    guards.configure(app)
    configure_plugin_state(app, desk)
    csrf = CSRFProtect(app)
    auth.configure(app)
    api_auth.configure(app, csrf)
    api = configure_api(app)
    errors.configure(app)
    configure_blueprints(app, desk, api)
    configure_templates(app, desk)
    return app


class DeskSessionInterface(SecureCookieSessionInterface):
    """Session cookies are marked ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def configure_flask(app: Flask, desk: Desk) -> None:
    app.session_interface = DeskSessionInterface()
    if desk.config.trusted_proxies:
        hops = desk.config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=desk.config.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=40 * 1024 * 1024,
    )


PLUGIN_STATE_INTERVAL = 1.0  # seconds between looks at plugin decisions taken by other processes


def configure_plugin_state(app: Flask, desk: Desk) -> None:
    """Plugins disabled while the server runs vanish from pages at once; their own routes answer 404."""

    refreshed_at = [float("-inf")]

    @app.before_request
    def follow_plugin_decisions() -> None:
        # Decisions taken in this process apply at once (the service refreshes); others within a second.
        if time.monotonic() - refreshed_at[0] >= PLUGIN_STATE_INTERVAL:
            desk.refresh_plugin_state()
            refreshed_at[0] = time.monotonic()
        if app.extensions["frontdesk_blueprint_plugins"].get(request.blueprint) in desk.plugins.calls.muted:
            abort(404)


def configure_blueprints(app: Flask, desk: Desk, api: DeskApi) -> None:
    """Mount the core pages, then every blueprint a plugin returns (named after that plugin).

    flask-smorest blueprints join the API document; plain Flask blueprints serve pages. A plugin with
    both registers its API blueprint as ``<name>_api`` (Flask needs unique names; endpoints differ).
    """
    for blueprint in (views.bp, agent.bp, agent_macros.bp, portal.bp, admin.bp, notification_views.bp):
        app.register_blueprint(blueprint)
    owners: dict[str, str] = app.extensions.setdefault("frontdesk_blueprint_plugins", {})
    for plugin_name, blueprints in desk.plugins.calls.per_plugin("frontdesk_register_blueprints").items():
        has_pages = any(not isinstance(blueprint, SmorestBlueprint) for blueprint in blueprints)
        for blueprint in blueprints:
            if blueprint.name != plugin_name:
                raise FrontdeskError(
                    f"plugin {plugin_name!r} returned blueprint {blueprint.name!r}; name it {plugin_name!r}"
                )
            if isinstance(blueprint, SmorestBlueprint):
                name = f"{plugin_name}_api" if has_pages else plugin_name
                register_api_blueprint(api, blueprint, name)
            else:
                name = plugin_name
                app.register_blueprint(blueprint)
            owners[name] = plugin_name


def configure_templates(app: Flask, desk: Desk) -> None:
    """Template globals (the navigation for the current user), and ``core:`` naming the core's own templates.

    A plugin template can ``{% extends "core:base.html" %}`` without its own ``base.html`` shadowing it.
    """
    from flask_login import current_user

    own = app.jinja_loader
    if own is not None:
        app.jinja_loader = ChoiceLoader([own, PrefixLoader({"core": own}, delimiter=":")])  # type: ignore[method-assign]

    def nav_items() -> list[Any]:
        user = current_user if current_user.is_authenticated else None
        return desk.plugins.calls.nav_items(user, lambda permission: desk.permissions.can(user, permission))

    def slot(name: str, **context: Any) -> Markup:
        return render_slot(desk, name, **context)

    app.extensions["frontdesk_settings"] = settings = SettingsCache(desk)
    app.jinja_env.globals.update(nav_items=nav_items, slot=slot, unread_notifications=notification_views.unread_count)

    @app.context_processor
    def desk_name() -> dict[str, Any]:
        return {"desk_name": settings.current()["desk_name"]}
