"""拒绝原因 — typed reasons a human action is rejected, shared by workflow validators and the API.

The workflow raises ``ApplicationError(type=Rejection.X.value)``; the API maps the type to an
HTTP status (``STATUS``) and passes the validator's Chinese message through unchanged.
"""

from enum import Enum


class Rejection(str, Enum):
    WRONG_STEP = "WrongStep"  # 当前环节不允许该操作
    WRONG_UNIT = "WrongUnit"  # 不是本单位的任务
    WRONG_ROLE = "WrongRole"  # 角色无权操作
    INVALID = "InvalidInput"  # 内容不合规
    UNKNOWN_CODE = "UnknownCode"  # 未知分类、单位或网格


STATUS = {
    Rejection.WRONG_STEP: 409,
    Rejection.WRONG_UNIT: 403,
    Rejection.WRONG_ROLE: 403,
    Rejection.INVALID: 422,
    Rejection.UNKNOWN_CODE: 422,
}
