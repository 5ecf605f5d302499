"""The REST API over `solver`: `api.main:app`.

    main       builds the app: settings, routers, the one error mapping
    settings   limits and workers, from CONVSOLVE_* environment variables
    routes/    one thin router per resource
"""
