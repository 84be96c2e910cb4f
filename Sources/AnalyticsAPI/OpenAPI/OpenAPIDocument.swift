/// The OpenAPI 3.0 document served at `GET /openapi.json` (hand-maintained; see docs/openapi.md).
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "PRPM+ Analytics",
            "version": "1.0.0",
            "description": "Read API of PRPM+ playground usage analytics, plus ingestion, feedback, badges and operations endpoints.\n\n* Errors: every error body is `{\"error\": {\"code\": \"...\", \"message\": \"...\"}}`. Unknown route: 404. A known path with another method: 405 with an `Allow` header. Bodies over 64 KiB (ingestion: 1 MiB): 413.\n* Every response carries `X-Request-Id` (the caller's, if it sent one of 1-128 characters, else generated).\n* Reads (`package`, `badge`, `user/me`, `organization`, `trending`) carry `X-Cache: HIT|MISS|STALE|BYPASS`. Public reads (package, badge, trending) carry `Cache-Control: public, max-age=N` and a strong `ETag`, and answer `If-None-Match` with 304; private ones `Cache-Control: private, no-store`.\n* Any `/api` route may answer 429 (rate limited) or 503 (Postgres unavailable and nothing stale to serve), both with `Retry-After`.\n* Rates are percentages; rounding is half away from zero; averages over no rows are `null`; keys shown as nullable are always present."
          },
          "servers": [
            {
              "url": "/",
              "description": "The server that serves this document."
            }
          ],
          "tags": [
            {
              "name": "analytics",
              "description": "Usage analytics reads and feedback."
            },
            {
              "name": "badges",
              "description": "shields.io-style badges for package pages."
            },
            {
              "name": "ingestion",
              "description": "Usage event ingestion (service token)."
            },
            {
              "name": "operations",
              "description": "Health, readiness, metrics and this document."
            }
          ],
          "paths": {
            "/healthz": {
              "get": {
                "operationId": "healthz",
                "tags": [
                  "operations"
                ],
                "summary": "Liveness: the process is up.",
                "responses": {
                  "200": {
                    "description": "Alive.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Health"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/readyz": {
              "get": {
                "operationId": "readyz",
                "tags": [
                  "operations"
                ],
                "summary": "Readiness: Postgres reachable; reports Redis and degraded mode.",
                "responses": {
                  "200": {
                    "description": "Postgres reachable (Redis may be down: degraded).",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "Postgres unreachable.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "tags": [
                  "operations"
                ],
                "summary": "Prometheus metrics (text exposition format 0.0.4).",
                "responses": {
                  "200": {
                    "description": "Metrics.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "openapi",
                "tags": [
                  "operations"
                ],
                "summary": "This document.",
                "responses": {
                  "200": {
                    "description": "OpenAPI 3.0 document.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/analytics/package/{packageId}": {
              "get": {
                "operationId": "getPackageAnalytics",
                "tags": [
                  "analytics"
                ],
                "summary": "Usage analytics of one package (public).",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/PackageId"
                  },
                  {
                    "$ref": "#/components/parameters/Days"
                  },
                  {
                    "$ref": "#/components/parameters/IfNoneMatch"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Package analytics.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "X-Cache": {
                        "$ref": "#/components/headers/X-Cache"
                      },
                      "ETag": {
                        "$ref": "#/components/headers/ETag"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Public"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PackageStats"
                        }
                      }
                    }
                  },
                  "304": {
                    "$ref": "#/components/responses/NotModified"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/api/v1/analytics/package/{packageId}/badge/{file}": {
              "get": {
                "operationId": "getPackageBadge",
                "tags": [
                  "badges"
                ],
                "summary": "A shields.io-style badge of one package metric (public).",
                "description": "`{metric}.svg` is an SVG image; `{metric}.json` is the shields.io endpoint-badge JSON. An unknown package gives a grey \"not found\" badge with status 404.",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/PackageId"
                  },
                  {
                    "name": "file",
                    "in": "path",
                    "required": true,
                    "description": "`{metric}.svg` or `{metric}.json`; metric is runs, users, rating, success, trend or model.",
                    "schema": {
                      "type": "string",
                      "pattern": "^(runs|users|rating|success|trend|model)\\.(svg|json)$"
                    }
                  },
                  {
                    "name": "style",
                    "in": "query",
                    "required": false,
                    "description": "shields.io badge style (SVG).",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "flat",
                        "flat-square",
                        "plastic",
                        "for-the-badge",
                        "social"
                      ],
                      "default": "flat"
                    }
                  },
                  {
                    "name": "label",
                    "in": "query",
                    "required": false,
                    "description": "Left-hand text; empty for a message-only badge. Default: the metric's label.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Days"
                  },
                  {
                    "$ref": "#/components/parameters/IfNoneMatch"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The badge.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "X-Cache": {
                        "$ref": "#/components/headers/X-Cache"
                      },
                      "ETag": {
                        "$ref": "#/components/headers/ETag"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Public"
                      }
                    },
                    "content": {
                      "image/svg+xml": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ShieldsBadge"
                        }
                      }
                    }
                  },
                  "304": {
                    "$ref": "#/components/responses/NotModified"
                  },
                  "400": {
                    "description": "Unknown metric, bad style or bad days: a red badge (`badge: invalid metric|style|days`) in the requested format.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "image/svg+xml": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ShieldsBadge"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "Unknown package: a grey `not found` badge in the requested format. An extension other than .svg/.json: an error body.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "image/svg+xml": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/json": {
                        "schema": {
                          "anyOf": [
                            {
                              "$ref": "#/components/schemas/ShieldsBadge"
                            },
                            {
                              "$ref": "#/components/schemas/Error"
                            }
                          ]
                        }
                      }
                    }
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/api/v1/analytics/user/me": {
              "get": {
                "operationId": "getMyAnalytics",
                "tags": [
                  "analytics"
                ],
                "summary": "The caller's own usage analytics.",
                "security": [
                  {
                    "UserJWT": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Days"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The caller's analytics.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "X-Cache": {
                        "$ref": "#/components/headers/X-Cache"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Private"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UserStats"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/api/v1/analytics/organization/{orgId}": {
              "get": {
                "operationId": "getOrganizationAnalytics",
                "tags": [
                  "analytics"
                ],
                "summary": "Usage analytics of an organization (owners and admins only).",
                "description": "Counts usage rows whose org_id is the organization. 403 also when the organization does not exist or the id is not a UUID.",
                "security": [
                  {
                    "UserJWT": []
                  }
                ],
                "parameters": [
                  {
                    "name": "orgId",
                    "in": "path",
                    "required": true,
                    "description": "The organization's UUID.",
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Days"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The organization's analytics.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "X-Cache": {
                        "$ref": "#/components/headers/X-Cache"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Private"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/OrganizationStats"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/api/v1/analytics/trending": {
              "get": {
                "operationId": "getTrending",
                "tags": [
                  "analytics"
                ],
                "summary": "The worker's latest week-over-week trending table (public).",
                "parameters": [
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Integer 1..100; anything else is a 400.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "$ref": "#/components/parameters/IfNoneMatch"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Trending packages.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "X-Cache": {
                        "$ref": "#/components/headers/X-Cache"
                      },
                      "ETag": {
                        "$ref": "#/components/headers/ETag"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Public"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TrendingPackages"
                        }
                      }
                    }
                  },
                  "304": {
                    "$ref": "#/components/responses/NotModified"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/api/v1/analytics/feedback": {
              "post": {
                "operationId": "submitFeedback",
                "tags": [
                  "analytics"
                ],
                "summary": "Rate one of the caller's playground runs.",
                "description": "Updates rating / wasHelpful / feedback of a usage row owned by the caller, then marks the package, user and organization answers the row feeds: the caller's own user/me shows it on the next read, shared answers within CACHE_PUBLIC_LAG_S.",
                "security": [
                  {
                    "UserJWT": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/FeedbackRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The stored feedback.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Private"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/FeedbackResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "description": "No such usage row, or it belongs to another user.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "$ref": "#/components/responses/PayloadTooLarge"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/Unprocessable"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            },
            "/api/v1/analytics/usage": {
              "post": {
                "operationId": "ingestUsage",
                "tags": [
                  "ingestion"
                ],
                "summary": "Ingest usage events (one, or a batch of up to 1000).",
                "description": "Validated whole and inserted in one transaction (all or nothing). Invalid: 422 naming the index and field of the first bad event (also in X-Error-Index / X-Error-Field). With Idempotency-Key, a retry with the same key and body returns the first answer and inserts nothing; the same key with another body is a 422.",
                "security": [
                  {
                    "IngestToken": []
                  }
                ],
                "parameters": [
                  {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": false,
                    "description": "Makes a retry safe: 1 to 255 visible ASCII characters (else 400).",
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 255,
                      "pattern": "^[!-~]+$"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "oneOf": [
                          {
                            "$ref": "#/components/schemas/UsageEvent"
                          },
                          {
                            "$ref": "#/components/schemas/UsageBatch"
                          }
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Inserted.",
                    "headers": {
                      "X-Request-Id": {
                        "$ref": "#/components/headers/X-Request-Id"
                      },
                      "Cache-Control": {
                        "$ref": "#/components/headers/Cache-Control-Private"
                      }
                    },
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/IngestResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "413": {
                    "$ref": "#/components/responses/PayloadTooLarge"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/Unprocessable"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "503": {
                    "$ref": "#/components/responses/ServiceUnavailable"
                  }
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "UserJWT": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "PRPM registry token: HS256 JWT signed with JWT_SECRET; user id in `user_id` (else `sub`); `exp` required. The user must exist and not be deleted."
              },
              "IngestToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "The service's ingestion token (INGEST_TOKEN), compared in constant time."
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "required": [
                  "error"
                ],
                "properties": {
                  "error": {
                    "type": "object",
                    "required": [
                      "code",
                      "message"
                    ],
                    "properties": {
                      "code": {
                        "type": "string",
                        "description": "Machine-readable code, e.g. invalid_days, invalid_limit, malformed_body, validation_failed, unauthorized, forbidden, not_found, body_too_large, unsupported_media_type, method_not_allowed, rate_limited, unavailable."
                      },
                      "message": {
                        "type": "string",
                        "description": "Human-readable explanation."
                      }
                    }
                  }
                },
                "description": "The body of every error response."
              },
              "Health": {
                "type": "object",
                "required": [
                  "status"
                ],
                "properties": {
                  "status": {
                    "type": "string",
                    "enum": [
                      "ok"
                    ]
                  }
                }
              },
              "Readiness": {
                "type": "object",
                "required": [
                  "status",
                  "postgres",
                  "redis",
                  "circuitBreaker",
                  "degraded"
                ],
                "properties": {
                  "status": {
                    "type": "string",
                    "enum": [
                      "ready",
                      "unavailable"
                    ]
                  },
                  "postgres": {
                    "type": "string",
                    "enum": [
                      "up",
                      "down"
                    ]
                  },
                  "redis": {
                    "type": "string",
                    "enum": [
                      "up",
                      "down"
                    ]
                  },
                  "circuitBreaker": {
                    "type": "string",
                    "enum": [
                      "closed",
                      "open",
                      "half_open"
                    ],
                    "description": "State of the Redis circuit breaker."
                  },
                  "degraded": {
                    "type": "boolean",
                    "description": "true when Redis is down or the breaker is not closed (reads bypass the cache)."
                  }
                }
              },
              "WeekOverWeek": {
                "type": "object",
                "required": [
                  "thisWeek",
                  "lastWeek",
                  "changePct",
                  "trend",
                  "computedAt"
                ],
                "properties": {
                  "thisWeek": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "lastWeek": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "changePct": {
                    "type": "number",
                    "nullable": true,
                    "description": "(thisWeek - lastWeek) / lastWeek * 100, 1 decimal; null when lastWeek = 0."
                  },
                  "trend": {
                    "$ref": "#/components/schemas/Trend"
                  },
                  "computedAt": {
                    "type": "string",
                    "format": "date-time",
                    "description": "ISO-8601 UTC timestamp ending in Z."
                  }
                },
                "nullable": true,
                "description": "The worker's latest week-over-week trend (last 7 complete UTC days vs the 7 before); null until computed."
              },
              "Trend": {
                "type": "string",
                "enum": [
                  "new",
                  "rising",
                  "falling",
                  "stable"
                ],
                "description": "new: lastWeek = 0 and thisWeek > 0; rising: >= 1.2x; falling: <= 0.8x; else stable."
              },
              "PackageStats": {
                "type": "object",
                "required": [
                  "packageId",
                  "packageName",
                  "days",
                  "totalRuns",
                  "uniqueUsers",
                  "successRate",
                  "avgDuration",
                  "avgTokens",
                  "avgRating",
                  "modelBreakdown",
                  "versionBreakdown",
                  "dailyUsage",
                  "weekOverWeek"
                ],
                "properties": {
                  "packageId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "packageName": {
                    "type": "string"
                  },
                  "days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 365
                  },
                  "totalRuns": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "uniqueUsers": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "successRate": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 100,
                    "description": "Share of runs without error, percent, 1 decimal; null without runs.",
                    "nullable": true
                  },
                  "avgDuration": {
                    "type": "integer",
                    "nullable": true,
                    "description": "Mean duration_ms, integer; null without runs."
                  },
                  "avgTokens": {
                    "type": "integer",
                    "nullable": true,
                    "description": "Mean tokens_used, integer; null without runs."
                  },
                  "avgRating": {
                    "type": "number",
                    "minimum": 1,
                    "maximum": 5,
                    "nullable": true,
                    "description": "Mean user_rating, 1 decimal; null without ratings."
                  },
                  "modelBreakdown": {
                    "type": "array",
                    "description": "runs desc, then model asc.",
                    "items": {
                      "type": "object",
                      "required": [
                        "model",
                        "runs",
                        "avg_duration",
                        "success_rate"
                      ],
                      "properties": {
                        "model": {
                          "type": "string"
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "avg_duration": {
                          "type": "integer"
                        },
                        "success_rate": {
                          "type": "number",
                          "minimum": 0,
                          "maximum": 100,
                          "description": "Percentage, 1 decimal (half away from zero)."
                        }
                      }
                    }
                  },
                  "versionBreakdown": {
                    "type": "array",
                    "maxItems": 10,
                    "description": "Semantic-version desc (pre-releases below their release, non-semver strings after, in string order); non-null versions only.",
                    "items": {
                      "type": "object",
                      "required": [
                        "package_version",
                        "runs",
                        "avg_rating"
                      ],
                      "properties": {
                        "package_version": {
                          "type": "string"
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "avg_rating": {
                          "type": "number",
                          "minimum": 1,
                          "maximum": 5,
                          "nullable": true
                        }
                      }
                    }
                  },
                  "dailyUsage": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 365,
                    "description": "Exactly `days` entries, oldest first, zero-filled.",
                    "items": {
                      "type": "object",
                      "required": [
                        "date",
                        "runs",
                        "unique_users"
                      ],
                      "properties": {
                        "date": {
                          "type": "string",
                          "format": "date",
                          "description": "UTC calendar day, YYYY-MM-DD."
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "unique_users": {
                          "type": "integer",
                          "minimum": 0
                        }
                      }
                    }
                  },
                  "weekOverWeek": {
                    "$ref": "#/components/schemas/WeekOverWeek"
                  }
                },
                "description": "Top-level keys camelCase, list-item keys snake_case. Extra keys may be added."
              },
              "UserStats": {
                "type": "object",
                "required": [
                  "userId",
                  "days",
                  "totalRuns",
                  "creditsSpent",
                  "totalTokens",
                  "mostUsedModel",
                  "mostTestedPackage",
                  "avgResponseTime",
                  "dailyActivity",
                  "modelUsage",
                  "topPackages"
                ],
                "properties": {
                  "userId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 365
                  },
                  "totalRuns": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "creditsSpent": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "totalTokens": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "mostUsedModel": {
                    "type": "string",
                    "nullable": true,
                    "description": "null without runs."
                  },
                  "mostTestedPackage": {
                    "type": "string",
                    "nullable": true,
                    "description": "A package name; null without runs with a package."
                  },
                  "avgResponseTime": {
                    "type": "integer",
                    "nullable": true,
                    "description": "Mean duration_ms, integer; null without runs."
                  },
                  "dailyActivity": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 365,
                    "description": "Exactly `days` entries, oldest first, zero-filled.",
                    "items": {
                      "type": "object",
                      "required": [
                        "date",
                        "runs",
                        "credits"
                      ],
                      "properties": {
                        "date": {
                          "type": "string",
                          "format": "date",
                          "description": "UTC calendar day, YYYY-MM-DD."
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "credits": {
                          "type": "integer",
                          "minimum": 0
                        }
                      }
                    }
                  },
                  "modelUsage": {
                    "type": "array",
                    "description": "runs desc, then model asc.",
                    "items": {
                      "type": "object",
                      "required": [
                        "model",
                        "runs",
                        "credits",
                        "avg_duration"
                      ],
                      "properties": {
                        "model": {
                          "type": "string"
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "credits": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "avg_duration": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "topPackages": {
                    "type": "array",
                    "maxItems": 10,
                    "description": "runs desc, then name asc.",
                    "items": {
                      "type": "object",
                      "required": [
                        "id",
                        "name",
                        "runs",
                        "credits",
                        "avg_rating"
                      ],
                      "properties": {
                        "id": {
                          "type": "string",
                          "format": "uuid"
                        },
                        "name": {
                          "type": "string"
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "credits": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "avg_rating": {
                          "type": "number",
                          "minimum": 1,
                          "maximum": 5,
                          "nullable": true
                        }
                      }
                    }
                  }
                }
              },
              "OrganizationStats": {
                "type": "object",
                "required": [
                  "orgId",
                  "orgName",
                  "days",
                  "totalRuns",
                  "activeMembers",
                  "totalMembers",
                  "totalCredits",
                  "totalTokens",
                  "avgDuration",
                  "memberActivity",
                  "topPackages",
                  "dailyUsage",
                  "teamAllocation"
                ],
                "properties": {
                  "orgId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "orgName": {
                    "type": "string"
                  },
                  "days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 365
                  },
                  "totalRuns": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "activeMembers": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "totalMembers": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "totalCredits": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "totalTokens": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "avgDuration": {
                    "type": "integer",
                    "nullable": true,
                    "description": "Mean duration_ms, integer; null without runs."
                  },
                  "memberActivity": {
                    "type": "array",
                    "description": "Members with usage in the window; runs desc, then username asc.",
                    "items": {
                      "type": "object",
                      "required": [
                        "user_id",
                        "username",
                        "runs",
                        "credits_spent",
                        "last_active"
                      ],
                      "properties": {
                        "user_id": {
                          "type": "string",
                          "format": "uuid"
                        },
                        "username": {
                          "type": "string"
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "credits_spent": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "last_active": {
                          "type": "string",
                          "format": "date-time",
                          "description": "ISO-8601 UTC timestamp ending in Z."
                        }
                      }
                    }
                  },
                  "topPackages": {
                    "type": "array",
                    "maxItems": 10,
                    "description": "runs desc, then name asc.",
                    "items": {
                      "type": "object",
                      "required": [
                        "id",
                        "name",
                        "runs",
                        "unique_users",
                        "avg_rating"
                      ],
                      "properties": {
                        "id": {
                          "type": "string",
                          "format": "uuid"
                        },
                        "name": {
                          "type": "string"
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "unique_users": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "avg_rating": {
                          "type": "number",
                          "minimum": 1,
                          "maximum": 5,
                          "nullable": true
                        }
                      }
                    }
                  },
                  "dailyUsage": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 365,
                    "description": "Exactly `days` entries, oldest first, zero-filled.",
                    "items": {
                      "type": "object",
                      "required": [
                        "date",
                        "runs",
                        "active_members",
                        "credits"
                      ],
                      "properties": {
                        "date": {
                          "type": "string",
                          "format": "date",
                          "description": "UTC calendar day, YYYY-MM-DD."
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "active_members": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "credits": {
                          "type": "integer",
                          "minimum": 0
                        }
                      }
                    }
                  },
                  "teamAllocation": {
                    "type": "array",
                    "description": "credits desc, then team asc; members without a team are \"unassigned\".",
                    "items": {
                      "type": "object",
                      "required": [
                        "team",
                        "credits",
                        "runs"
                      ],
                      "properties": {
                        "team": {
                          "type": "string"
                        },
                        "credits": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "runs": {
                          "type": "integer",
                          "minimum": 0
                        }
                      }
                    }
                  }
                }
              },
              "TrendingPackages": {
                "type": "object",
                "required": [
                  "computedAt",
                  "packages"
                ],
                "properties": {
                  "computedAt": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the worker computed the table; null before the first computation.",
                    "nullable": true
                  },
                  "packages": {
                    "type": "array",
                    "maxItems": 100,
                    "description": "Ordered by (thisWeek - lastWeek) desc, then name asc; empty before the first computation.",
                    "items": {
                      "type": "object",
                      "required": [
                        "id",
                        "name",
                        "thisWeek",
                        "lastWeek",
                        "changePct",
                        "trend"
                      ],
                      "properties": {
                        "id": {
                          "type": "string",
                          "format": "uuid"
                        },
                        "name": {
                          "type": "string"
                        },
                        "thisWeek": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "lastWeek": {
                          "type": "integer",
                          "minimum": 0
                        },
                        "changePct": {
                          "type": "number",
                          "nullable": true,
                          "description": "1 decimal; null when lastWeek = 0."
                        },
                        "trend": {
                          "$ref": "#/components/schemas/Trend"
                        }
                      }
                    }
                  }
                }
              },
              "ShieldsBadge": {
                "type": "object",
                "required": [
                  "schemaVersion",
                  "label",
                  "message",
                  "color"
                ],
                "properties": {
                  "schemaVersion": {
                    "type": "integer",
                    "enum": [
                      1
                    ]
                  },
                  "label": {
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  },
                  "color": {
                    "type": "string",
                    "description": "A shields.io named colour or #hex."
                  },
                  "labelColor": {
                    "type": "string"
                  }
                },
                "description": "shields.io endpoint-badge schema (https://shields.io/badges/endpoint-badge)."
              },
              "FeedbackRequest": {
                "type": "object",
                "required": [
                  "usageId"
                ],
                "additionalProperties": false,
                "description": "At least one of rating, wasHelpful, feedback (null counts as not given). Unknown fields or wrong types: 400; out-of-range values or nothing to store: 422. Fields not given are left unchanged.",
                "properties": {
                  "usageId": {
                    "type": "string",
                    "format": "uuid",
                    "description": "A playground_usage row of the caller."
                  },
                  "rating": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 5
                  },
                  "wasHelpful": {
                    "type": "boolean"
                  },
                  "feedback": {
                    "type": "string",
                    "maxLength": 2000
                  }
                },
                "anyOf": [
                  {
                    "required": [
                      "rating"
                    ]
                  },
                  {
                    "required": [
                      "wasHelpful"
                    ]
                  },
                  {
                    "required": [
                      "feedback"
                    ]
                  }
                ]
              },
              "FeedbackResult": {
                "type": "object",
                "required": [
                  "usageId",
                  "rating",
                  "wasHelpful",
                  "feedback"
                ],
                "properties": {
                  "usageId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "rating": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 5,
                    "nullable": true
                  },
                  "wasHelpful": {
                    "type": "boolean",
                    "nullable": true
                  },
                  "feedback": {
                    "type": "string",
                    "maxLength": 2000,
                    "nullable": true
                  }
                },
                "description": "The stored feedback of the row after the update."
              },
              "UsageEvent": {
                "type": "object",
                "required": [
                  "userId",
                  "model",
                  "tokensUsed",
                  "durationMs"
                ],
                "additionalProperties": false,
                "description": "One row of playground_usage, columns in camelCase. Optional fields may be null (= not given). Referenced users, organizations, packages and sessions must exist (else 422).",
                "properties": {
                  "userId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "orgId": {
                    "type": "string",
                    "format": "uuid",
                    "nullable": true
                  },
                  "packageId": {
                    "type": "string",
                    "format": "uuid",
                    "nullable": true
                  },
                  "sessionId": {
                    "type": "string",
                    "format": "uuid",
                    "nullable": true
                  },
                  "packageVersion": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 50,
                    "nullable": true
                  },
                  "model": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 50
                  },
                  "tokensUsed": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647
                  },
                  "durationMs": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647
                  },
                  "creditsSpent": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647,
                    "nullable": true,
                    "description": "Default 1."
                  },
                  "requestSizeBytes": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647,
                    "nullable": true
                  },
                  "responseSizeBytes": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647,
                    "nullable": true
                  },
                  "inputLength": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647,
                    "nullable": true
                  },
                  "outputLength": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 2147483647,
                    "nullable": true
                  },
                  "errorOccurred": {
                    "type": "boolean",
                    "nullable": true,
                    "description": "Default false."
                  },
                  "errorMessage": {
                    "type": "string",
                    "maxLength": 10000,
                    "nullable": true
                  },
                  "userRating": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 5,
                    "nullable": true
                  },
                  "wasHelpful": {
                    "type": "boolean",
                    "nullable": true
                  },
                  "userFeedback": {
                    "type": "string",
                    "maxLength": 2000,
                    "nullable": true
                  },
                  "comparisonMode": {
                    "type": "boolean",
                    "nullable": true,
                    "description": "Default false."
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": true,
                    "description": "ISO-8601 with Z or ±HH:MM offset, optional fractional seconds; default now()."
                  }
                }
              },
              "UsageBatch": {
                "type": "object",
                "required": [
                  "events"
                ],
                "additionalProperties": false,
                "properties": {
                  "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": {
                      "$ref": "#/components/schemas/UsageEvent"
                    }
                  }
                }
              },
              "IngestResult": {
                "type": "object",
                "required": [
                  "ids"
                ],
                "properties": {
                  "ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": {
                      "type": "string",
                      "format": "uuid"
                    },
                    "description": "Ids of the inserted rows, in the order of the events."
                  }
                }
              }
            },
            "headers": {
              "X-Request-Id": {
                "description": "The request's X-Request-Id if it sent one (1-128 characters), else a generated UUID. On every response.",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              "X-Cache": {
                "description": "How the read was answered: HIT (fresh cache entry), MISS (computed), STALE (served past TTL while refreshing), BYPASS (Redis unavailable, computed from Postgres).",
                "required": true,
                "schema": {
                  "type": "string",
                  "enum": [
                    "HIT",
                    "MISS",
                    "STALE",
                    "BYPASS"
                  ]
                }
              },
              "ETag": {
                "description": "Strong entity tag of the body.",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              "Cache-Control-Public": {
                "description": "`public, max-age=N` (N = the seconds left of the entry's TTL).",
                "required": true,
                "schema": {
                  "type": "string",
                  "pattern": "^public, max-age=\\d+$"
                }
              },
              "Cache-Control-Private": {
                "description": "`private, no-store`.",
                "required": true,
                "schema": {
                  "type": "string",
                  "enum": [
                    "private, no-store"
                  ]
                }
              },
              "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "required": true,
                "schema": {
                  "type": "integer",
                  "minimum": 0
                }
              },
              "WWW-Authenticate": {
                "description": "`Bearer`.",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              "X-Error-Index": {
                "description": "Index of the first invalid event (batches).",
                "schema": {
                  "type": "integer",
                  "minimum": 0
                }
              },
              "X-Error-Field": {
                "description": "Field of the first invalid value.",
                "schema": {
                  "type": "string"
                }
              }
            },
            "responses": {
              "BadRequest": {
                "description": "Invalid parameter (e.g. `days` not an integer 1..365, `limit` not an integer 1..100) or malformed body (not JSON, wrong types, unknown fields).",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unauthorized": {
                "description": "Missing, malformed, wrongly signed, non-HS256 or expired token, or a user that does not exist or is deleted.",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  },
                  "WWW-Authenticate": {
                    "$ref": "#/components/headers/WWW-Authenticate"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "Not an owner or admin of the organization, or the organization does not exist (existence is not revealed).",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "NotFound": {
                "description": "No such resource (or no such route).",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "PayloadTooLarge": {
                "description": "Request body larger than the limit (64 KiB; ingestion 1 MiB).",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "UnsupportedMediaType": {
                "description": "Content-Type is not application/json.",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unprocessable": {
                "description": "Well-formed but invalid: out-of-range value, nothing to store, unknown referenced row.",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  },
                  "X-Error-Index": {
                    "$ref": "#/components/headers/X-Error-Index"
                  },
                  "X-Error-Field": {
                    "$ref": "#/components/headers/X-Error-Field"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "TooManyRequests": {
                "description": "Rate limit exceeded.",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  },
                  "Retry-After": {
                    "$ref": "#/components/headers/Retry-After"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "ServiceUnavailable": {
                "description": "Postgres unavailable and no stale cache entry to serve.",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  },
                  "Retry-After": {
                    "$ref": "#/components/headers/Retry-After"
                  }
                },
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "NotModified": {
                "description": "If-None-Match matched the current ETag.",
                "headers": {
                  "X-Request-Id": {
                    "$ref": "#/components/headers/X-Request-Id"
                  },
                  "ETag": {
                    "$ref": "#/components/headers/ETag"
                  },
                  "Cache-Control": {
                    "$ref": "#/components/headers/Cache-Control-Public"
                  },
                  "X-Cache": {
                    "$ref": "#/components/headers/X-Cache"
                  }
                }
              }
            },
            "parameters": {
              "Days": {
                "name": "days",
                "in": "query",
                "required": false,
                "description": "Window: the last `days` UTC calendar days including today. Integer 1..365; anything else (0, 366, abc, 1.5, empty) is a 400.",
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 365,
                  "default": 30
                }
              },
              "IfNoneMatch": {
                "name": "If-None-Match",
                "in": "header",
                "required": false,
                "description": "An ETag from an earlier response; 304 when it still matches.",
                "schema": {
                  "type": "string"
                }
              },
              "PackageId": {
                "name": "packageId",
                "in": "path",
                "required": true,
                "description": "The package's UUID or its name. Unknown or malformed: 404.",
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
        """#
}
