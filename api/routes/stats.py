"""考核统计 (placeholder, being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/stats", tags=["stats"])
