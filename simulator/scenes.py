"""What people report: the kinds of complaint (scenes), the sample district's grids, names and channels.

Scenes use categories that the sample district (文登区) routes to D-JJ, D-CG, D-SJ and T-LS in
龙山街道's grids — the units ``deploy/dev-keys.json`` holds keys for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scene:
    """One kind of complaint: its category, the unit that leads it, what people write and units answer."""

    category: str
    lead: str  # where the sample district routes it in 龙山街道
    texts: tuple[str, ...]
    results: tuple[str, ...]
    progress: tuple[str, ...] = ("已安排工作人员到现场核实情况",)
    co_units: tuple[str, ...] = ()
    co_result: str = ""
    weight: int = 10
    police: bool = False  # what 110 transfers as 非警务警情


SCENES: tuple[Scene, ...] = (
    Scene(
        "JM-002",
        "D-JJ",
        (
            "{home}楼下有车辆长期违规停放，堵住了小区出入口，早晚高峰车辆进出非常困难。",
            "{spot}门口的人行道上停满了私家车，行人只能走机动车道，老人孩子很危险。",
            "一辆{color}轿车在{home}的消防通道上停了{days}天了，联系不上车主。",
        ),
        ("已对违停车辆贴单告知并联系车主挪车，现场秩序恢复。", "已安排拖车将违停车辆拖离，并在路口增设禁停标志。"),
        ("已派民警到现场查看，正在联系车主。",),
        weight=16,
        police=True,
    ),
    Scene(
        "GS-005",
        "D-JJ",
        (
            "{road}和{road2}交叉口的红绿灯{days}天不亮了，路口车辆乱成一团。",
            "{road}人行横道信号灯绿灯时间太短，老人过马路走不过去。",
        ),
        ("已通知信号灯维护单位更换故障灯组，信号灯恢复正常。", "已调整人行横道绿灯配时，延长至35秒。"),
        ("已通知维护单位，正在排查线路故障。",),
        weight=6,
        police=True,
    ),
    Scene(
        "GS-001",
        "D-CG",
        (
            "{home}门前的路灯已经坏了{days}天，晚上一片漆黑，居民出行很不方便。",
            "{road}有一排路灯忽明忽暗，还有一根灯杆歪了，担心倒下砸到人。",
        ),
        ("已更换损坏灯具并加固灯杆，路灯恢复照明。",),
        ("已安排路灯维修班组现场勘查。",),
        weight=12,
    ),
    Scene(
        "SR-006",
        "D-CG",
        (
            "{home}楼下的烧烤店油烟直排，熏得楼上居民不敢开窗。",
            "{spot}旁边一家饭店的排烟管道正对着{home}，每天中午晚上油烟很大。",
        ),
        ("已责令商户安装油烟净化设施并调整排烟口方向，经检测达标。",),
        ("已约谈商户负责人，限期整改。",),
        weight=8,
        police=True,
    ),
    Scene(
        "JM-001",
        "D-CG",
        (
            "{spot}门口每天早上有十几个摊贩占道卖菜，道路堵塞，垃圾遍地。",
            "{road}夜市摊位摆到了机动车道上，晚上车辆通行很危险。",
        ),
        ("已联合市场监管部门劝导摊贩进入便民市场经营，占道现象已清理。",),
        ("已在早市时段安排执法队员值守。",),
        co_units=("D-SJ",),
        co_result="已对摊贩经营资质和食品安全进行检查，登记在册。",
        weight=8,
    ),
    Scene(
        "JM-007",
        "D-SJ",
        (
            "{spot}附近新开了一家食品小作坊，没有营业执照，卫生条件很差。",
            "{road}有一家店铺没有营业执照就开始卖烟酒，怀疑有假货。",
        ),
        ("已现场检查，责令停业整改，并指导经营者办理营业执照。",),
        ("已调取经营主体登记信息。",),
        weight=7,
    ),
    Scene(
        "AQ-007",
        "D-SJ",
        (
            "在{road}一家超市买的{food}已经过期了，货架上还在卖。",
            "{road}上学校门口的小摊卖三无食品，担心孩子吃坏肚子。",
        ),
        ("已下架过期食品并立案调查，督促商户落实进货查验制度。",),
        ("已抽检相关批次食品，等待检验结果。",),
        weight=8,
    ),
    Scene(
        "AQ-002",
        "T-LS",
        (
            "{home}楼道里堆满了杂物和纸箱，消防通道被堵，一旦着火后果不堪设想。",
            "{home}地下车库的消防通道被电动车和杂物占用，多次反映物业没人管。",
        ),
        ("已联合物业清理楼道杂物，张贴消防安全提示，并建立每周巡查。",),
        ("已通知物业限期清理。",),
        weight=9,
        police=True,
    ),
    Scene(
        "MS-001",
        "T-LS",
        (
            "家里老人生病花了很多钱，想咨询一下怎么申请低保，需要准备哪些材料。",
            "我丈夫去年因病去世，家里两个孩子上学，生活困难，想了解能不能申请救助。",
        ),
        ("已电话告知低保申请条件和材料清单，社区工作人员上门协助办理申请。",),
        ("社区工作人员已上门走访了解家庭情况。",),
        weight=6,
    ),
    Scene(
        "MD-007",
        "T-LS",
        (
            "我家承包地的边界和邻居{other}家有争议，对方把界石挪了，多次协商没有结果。",
            "村里调整承包地时我家少分了两亩，找村委会几次都没有答复。",
        ),
        ("已组织双方到现场丈量确认，调解达成协议并签订调解书。",),
        ("已调取土地承包合同和确权资料。",),
        weight=5,
        police=True,
    ),
)

# grid → (community, residential buildings, public spots, two roads)
GRIDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, str]]] = {
    "G-LS-XL-01": ("西楼社区", ("西楼小区3号楼", "西楼小区8号楼"), ("西楼农贸市场", "西楼小学"), ("西楼路", "峰山路")),
    "G-LS-XL-02": (
        "西楼社区",
        ("西楼花园12号楼", "西楼花园5号楼"),
        ("西楼路便民服务站", "西楼幼儿园"),
        ("西楼路", "文山路"),
    ),
    "G-LS-MS-01": (
        "米山路社区",
        ("米山小区2号楼", "米山路88号院"),
        ("米山路农贸市场", "米山路超市"),
        ("米山路", "龙山路"),
    ),
    "G-LS-MS-02": (
        "米山路社区",
        ("米山花园7号楼", "龙山路12号院"),
        ("米山路菜市场", "龙山路口公交站"),
        ("米山路", "抱龙河路"),
    ),
    "G-LS-KY-01": (
        "昆嵛路社区",
        ("昆嵛小区5号楼", "昆嵛小区11号楼"),
        ("昆嵛路小学", "世纪大道路口"),
        ("昆嵛路", "世纪大道"),
    ),
    "G-LS-KY-02": (
        "昆嵛路社区",
        ("昆嵛花园3号楼", "天润家园9号楼"),
        ("昆嵛路商业街", "昆嵛路卫生服务站"),
        ("昆嵛路", "天润路"),
    ),
}

SURNAMES = "王李张刘于孙宋林丛毕谷姜杨陈赵徐高郭曲邹梁鞠慕"
GIVEN = (
    "建国",
    "秀英",
    "志强",
    "丽华",
    "海涛",
    "玉兰",
    "明军",
    "桂芳",
    "春梅",
    "德胜",
    "晓燕",
    "文杰",
    "淑珍",
    "立新",
    "红霞",
    "永刚",
    "翠萍",
    "凤英",
    "国庆",
    "海燕",
    "秀兰",
    "静",
    "磊",
    "伟",
    "敏",
    "军",
    "芳",
    "浩",
)
COLORS = ("白色", "黑色", "银色", "红色")
FOODS = ("牛奶", "面包", "火腿肠", "速冻水饺")
CHANNELS = (
    ("hotline_12345", "GD", 40),
    ("grid", "WG", 25),
    ("mini_program", "WXG", 15),
    ("police_110", "JQ", 10),
    ("window", "CK", 10),
)
