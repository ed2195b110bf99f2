"""`riskassess serve`: the service without HTTP, the routes, the guard in front of them,
the web form, the OpenAPI document, and the uvicorn glue. Imported only by `serve`."""
