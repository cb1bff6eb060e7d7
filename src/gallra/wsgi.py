"""gallra as a WSGI application. The consent decision endpoint, which every visitor of the
provider's website may post to, is answered in front of Django (gallra.consent.endpoint);
everything else is Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
django_application = get_wsgi_application()

from gallra.consent import endpoint  # noqa: E402 (needs Django set up)


def application(environ, start_response):
    if environ.get("PATH_INFO") == endpoint.PATH:
        return endpoint.wsgi(environ, start_response)
    return django_application(environ, start_response)
