import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ProfileService } from '@shoal/contracts';
import {
  healthReflectionDefinition,
  healthServiceDescriptor,
  reflectionPackageDefinition,
} from './service-definition';

describe('descriptors served over reflection', () => {
  it('describes the health service as protoc would, so strict clients accept it', () => {
    const [bytes] =
      healthReflectionDefinition()['grpc.health.v1.HealthListResponse']?.fileDescriptorProtos ?? [];
    const file = fromBinary(FileDescriptorProtoSchema, bytes!);
    const list = file.messageType.find((m) => m.name === 'HealthListResponse');
    expect(list?.nestedType.map((n) => n.name)).toEqual(['StatusesEntry']);
    expect(list?.field[0]?.typeName).toBe('.grpc.health.v1.HealthListResponse.StatusesEntry');
    expect(list?.nestedType[0]?.field.find((f) => f.name === 'value')?.typeName).toBe(
      '.grpc.health.v1.HealthCheckResponse',
    );
    expect(file.service[0]?.method.map((m) => m.inputType)).toEqual(
      expect.arrayContaining(['.grpc.health.v1.HealthCheckRequest']),
    );
    // protobuf-es builds a registry only from well-formed descriptors
    const registry = createFileRegistry(file, () => undefined);
    expect(registry.getService('grpc.health.v1.Health')?.methods.map((m) => m.name)).toContain(
      'Check',
    );
  });

  it('includes every file a Shoal service depends on', () => {
    const served = Object.values(reflectionPackageDefinition([ProfileService])).flatMap((entry) =>
      entry.fileDescriptorProtos.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name),
    );
    expect(served).toEqual(
      expect.arrayContaining([
        'shoal/v1/profile.proto',
        'google/protobuf/struct.proto',
        'google/protobuf/timestamp.proto',
      ]),
    );
  });

  it('describes the standard health service for descriptor-driven tools', () => {
    const health = healthServiceDescriptor();
    expect(health.typeName).toBe('grpc.health.v1.Health');
    expect(health.methods.map((m) => [m.name, m.methodKind, m.input.typeName])).toEqual([
      ['Check', 'unary', 'grpc.health.v1.HealthCheckRequest'],
      ['Watch', 'server_streaming', 'grpc.health.v1.HealthCheckRequest'],
      ['List', 'unary', 'grpc.health.v1.HealthListRequest'],
    ]);
  });
});
