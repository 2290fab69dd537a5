export * from './gen/shoal/v1/common_pb';
export * from './gen/shoal/v1/event_pb';
export * from './gen/shoal/v1/health_pb';
export * from './gen/shoal/v1/profile_pb';
export * from './gen/shoal/v1/profile_change_pb';
export * from './topics';
export * from './gen/shoal/v1/rule_pb';
export * from './gen/shoal/v1/segment_pb';
