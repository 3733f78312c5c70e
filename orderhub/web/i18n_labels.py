"""Labels and messages declared in other apps and shown on the staff pages.

Marked here with gettext_noop only so that `django-admin makemessages -l en`, run in
orderhub/web, keeps their English translations in this app's catalog (orderhub/web/locale).
Nothing imports this module; gettext looks translations up by message text, so the labels in
orders, catalog and accounts are translated wherever they are shown. Keep it in step with them
(tests/web/test_layout.py checks every one has an English translation).
"""

from django.utils.translation import gettext_noop

LABELS = (
    # Order states (orders.states.OrderStatus)
    gettext_noop("待审核"),
    gettext_noop("已拆单"),
    gettext_noop("分仓中"),
    gettext_noop("已打单"),
    gettext_noop("已发货"),
    gettext_noop("物流异常"),
    gettext_noop("已完成"),
    gettext_noop("已取消"),
    # Transition buttons (orders.states.TRANSITIONS)
    gettext_noop("审核通过"),
    gettext_noop("开始分仓"),
    gettext_noop("打单"),
    gettext_noop("发货"),
    gettext_noop("标记物流异常"),
    gettext_noop("恢复运输"),
    gettext_noop("确认签收"),
    gettext_noop("异常关闭"),
    gettext_noop("驳回重审"),
    gettext_noop("分仓驳回（缺货）"),
    gettext_noop("作废面单"),
    gettext_noop("取消订单"),
    # Customer tiers (catalog.models.CustomerTier)
    gettext_noop("A类"),
    gettext_noop("B类"),
    gettext_noop("C类"),
    # Hold reasons (orders.models.HoldReason)
    gettext_noop("地址不完整"),
    gettext_noop("电话无效"),
    gettext_noop("电话被平台隐藏"),
    gettext_noop("库存冲突"),
    gettext_noop("未知商品"),
    gettext_noop("数量错误"),
    gettext_noop("疑似重复"),
    gettext_noop("黑名单"),
    gettext_noop("金额需人工审核"),
    gettext_noop("备注需处理"),
    gettext_noop("超出信用额度"),
    gettext_noop("分仓后渠道改单"),
    gettext_noop("人工拦截"),
    # Timeline entries (orders.models.LogAction)
    gettext_noop("创建"),
    gettext_noop("状态变更"),
    gettext_noop("拦截"),
    gettext_noop("解除拦截"),
    gettext_noop("修改"),
    gettext_noop("备注"),
    # Phone kinds (orders.models.PhoneKind)
    gettext_noop("正常"),
    gettext_noop("平台打码"),
    gettext_noop("虚拟号"),
    gettext_noop("无效"),
    gettext_noop("缺失"),
    # Roles (accounts.roles.Role)
    gettext_noop("销售"),
    gettext_noop("客服"),
    gettext_noop("仓库"),
    gettext_noop("物流"),
    gettext_noop("财务"),
    gettext_noop("主管"),
    gettext_noop("管理员"),
    gettext_noop("系统"),
    # Refusals of the transition service shown as messages (orders.services, orders.selectors)
    gettext_noop("「%(action)s」需要填写原因"),
    gettext_noop("您的角色不能执行「%(action)s」"),
    gettext_noop("未知状态：%(to)s"),
    gettext_noop("分页游标无效"),
    gettext_noop("每页数量须在 1 到 200 之间"),
    gettext_noop("系统"),
    gettext_noop("订单 %(id)s 不存在"),
    gettext_noop("订单 %(no)s 已被他人修改（当前版本 %(cur)s，您看到的是 %(exp)s），请刷新后重试"),
    gettext_noop("订单 %(no)s 当前为「%(src)s」，不能变为「%(dst)s」"),
    gettext_noop("订单已被他人修改，请刷新后重试"),
    gettext_noop("订单被拦截，需先处理："),
)
