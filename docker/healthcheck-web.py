"""Exit 0 when gunicorn serves the admin login page as the TLS proxy would ask for it.

The request carries a Host from DJANGO_ALLOWED_HOSTS and X-Forwarded-Proto:
https, so neither ALLOWED_HOSTS nor SECURE_SSL_REDIRECT turns it away. A
redirect is not followed: it counts as unhealthy.
"""

import os
import sys
import urllib.error
import urllib.request

URL = "http://127.0.0.1:8000/admin/login/"


class RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def allowed_host() -> str:
    first = os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")[0].strip()
    if not first or first == "*":
        return "localhost"
    return first.lstrip(".")


def main() -> int:
    request = urllib.request.Request(URL, headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"})
    opener = urllib.request.build_opener(RefuseRedirects)
    try:
        with opener.open(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"web health check failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
