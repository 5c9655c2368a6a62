"""The WSGI application gunicorn serves (`moclab serve`), configured by the environment (see settings)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moclab.web.settings")
application = get_wsgi_application()
