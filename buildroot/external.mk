include $(sort $(wildcard $(BR2_EXTERNAL_O4SEND_PATH)/package/*/*.mk))
