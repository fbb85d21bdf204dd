"""Open311 GeoReport v2 facade (placeholder, being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/open311/v2", tags=["open311"])
